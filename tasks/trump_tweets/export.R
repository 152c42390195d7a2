source(commandArgs(TRUE)[2])
# Who typed it: Trump's own Android phone or his staff's iPhone. Text only: created_at, counts and
# the client name itself would leak the label.
d <- dataset("dslabs", "trump_tweets")
d <- d[!d$is_retweet & d$source %in% c("Twitter for Android", "Twitter for iPhone"), ]
write_full(data.frame(text = d$text, device = ifelse(d$source == "Twitter for Android", "android", "iphone")))
