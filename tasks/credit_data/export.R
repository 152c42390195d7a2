source(commandArgs(TRUE)[2])
write_full(dataset("modeldata", "credit_data"))
