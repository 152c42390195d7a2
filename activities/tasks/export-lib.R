# Shared by tasks/*/export.R (run as `Rscript export.R RAW_DIR THIS_FILE`): read a data set shipped in a
# Debian r-cran-* package and write it, curated, as RAW_DIR/full.csv for activities/tasks/split.py.
dataset <- function(pkg, name, set = name) {
  e <- new.env()
  data(list = set, package = pkg, envir = e)
  as.data.frame(get(name, envir = e))
}

write_full <- function(d) {
  write.csv(d, file.path(commandArgs(TRUE)[1], "full.csv"), row.names = FALSE, fileEncoding = "UTF-8")
}
