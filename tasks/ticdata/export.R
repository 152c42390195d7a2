source(commandArgs(TRUE)[2])
# CoIL 2000: the first 5822 rows are the original training set, the last 4000 the original test set.
d <- dataset("kernlab", "ticdata")
stopifnot(nrow(d) == 9822)
d$.split <- rep(c("train", "test"), c(5822, 4000))
write_full(d)
