# Reference for bench/wfm/forecast.sh (issues #5, #15): the same queues, the same split (fit on
# all but the last week, score the last week), with R: stats::HoltWinters (additive,
# alpha/beta/gamma by optim) and forecast::stlf (STL decomposition + ETS on the seasonally
# adjusted series), plus forecast::snaive as a check on the scaling. Forecasts are clipped at 0,
# as opsbox clips them. With WINDOWS > 1, window k (1 = the last) forecasts the k-th last block of
# HOLDOUT values from everything before it; its rows are named "w<k>/<method>".
# Prints one JSON line per method (and window): total seconds (fit + forecast, all queues; wall
# clock and process CPU), mean WAPE and MASE.
#   Rscript forecast_reference.R SERIES.csv [PERIOD=672] [HOLDOUT=672] [METHODS=hw,stlf,snaive]
#                                [WINDOWS=1]
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
period <- if (length(args) >= 2) as.integer(args[2]) else 672L
holdout <- if (length(args) >= 3) as.integer(args[3]) else 672L
methods <- if (length(args) >= 4) strsplit(args[4], ",")[[1]] else c("hw", "stlf", "snaive")
windows <- if (length(args) >= 5) as.integer(args[5]) else 1L
data <- read.csv(path)

score <- function(actual, fc, train) {
  fc <- pmax(as.numeric(fc), 0)
  scale <- mean(abs(diff(train, lag = period)))
  c(wape = sum(abs(actual - fc)) / sum(abs(actual)), mase = mean(abs(actual - fc)) / scale)
}

fit_one <- function(method, y) {
  switch(method,
    hw = predict(HoltWinters(y, seasonal = "additive"), n.ahead = holdout),
    stlf = stlf(y, h = holdout)$mean,
    snaive = snaive(y, h = holdout)$mean)
}

for (k in seq_len(windows)) for (method in methods) {
  seconds <- 0
  cpu <- 0
  scores <- matrix(NA_real_, nrow = ncol(data), ncol = 2)
  for (q in seq_len(ncol(data))) {
    v <- data[[q]]
    n <- length(v) - (k - 1L) * holdout
    train <- v[1:(n - holdout)]
    actual <- v[(n - holdout + 1):n]
    y <- ts(train, frequency = period)
    t0 <- proc.time()
    fc <- tryCatch(suppressWarnings(fit_one(method, y)),
                   error = function(e) rep(NA_real_, holdout))
    t1 <- proc.time()
    seconds <- seconds + t1[["elapsed"]] - t0[["elapsed"]]
    cpu <- cpu + (t1[["user.self"]] + t1[["sys.self"]]) - (t0[["user.self"]] + t0[["sys.self"]])
    scores[q, ] <- score(actual, fc, train)
  }
  name <- if (windows > 1L) sprintf("w%d/%s", k, method) else method
  cat(sprintf(paste0('{"bench":"forecast-r","config":"%s","queues":%d,"seconds":%.3f,',
                     '"cpu_seconds":%.3f,"wape":%.4f,"mase":%.4f,"failed":%d,"r":"%s",',
                     '"forecast":"%s"}\n'),
              name, ncol(data), seconds, cpu, mean(scores[, 1], na.rm = TRUE),
              mean(scores[, 2], na.rm = TRUE), sum(is.na(scores[, 1])),
              paste(R.version$major, R.version$minor, sep = "."),
              as.character(packageVersion("forecast"))))
}
