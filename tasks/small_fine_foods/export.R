source(commandArgs(TRUE)[2])
# The package's own training/testing sets are the split (method: original).
train <- dataset("modeldata", "training_data", "small_fine_foods")
test <- dataset("modeldata", "testing_data", "small_fine_foods")
train$.split <- "train"
test$.split <- "test"
write_full(rbind(train, test))
