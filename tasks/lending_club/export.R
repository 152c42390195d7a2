source(commandArgs(TRUE)[2])
write_full(dataset("modeldata", "lending_club"))
