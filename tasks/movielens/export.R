source(commandArgs(TRUE)[2])
write_full(dataset("dslabs", "movielens"))
