source(commandArgs(TRUE)[2])
write_full(dataset("mlbench", "Satellite"))
