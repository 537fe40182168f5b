# Reference for CR2 Bell-McCaffrey: R clubSandwich on tests/reference/twfe_input.csv.
#
#   Rscript tests/reference/make_clubsandwich.R    (from the repository root)
#
# Writes tests/reference/clubsandwich.csv: per indicator and integration term, the OLS
# estimate of y on the integration dummies, the controls (every column after
# integration_partial) and area and year dummies, with its CR2 standard error clustered by area
# and the Satterthwaite degrees of freedom and p-value (coef_test), as the live test in
# tests/test_inference.py. Numbers with 17 significant digits.
suppressMessages(library(clubSandwich))
input <- "tests/reference/twfe_input.csv"
output <- "tests/reference/clubsandwich.csv"
d <- read.csv(input, comment.char = "#")
terms <- c("integration_full", "integration_partial")
controls <- names(d)[(match("integration_partial", names(d)) + 1):ncol(d)]
rhs <- paste(c(terms, controls, "factor(area_code)", "factor(year)"), collapse = " + ")
rows <- list()
for (indicator in unique(d$indicator_id)) {
  di <- d[d$indicator_id == indicator, ]
  fit <- lm(as.formula(paste("y ~", rhs)), data = di)
  ct <- coef_test(fit, vcov = "CR2", cluster = di$area_code, test = "Satterthwaite",
                  coefs = terms)
  rows[[indicator]] <- data.frame(indicator_id = indicator, term = terms,
                                  estimate = sprintf("%.17g", ct$beta),
                                  std_error = sprintf("%.17g", ct$SE),
                                  df = sprintf("%.17g", ct$df_Satt),
                                  p_value = sprintf("%.17g", ct$p_Satt))
}
con <- file(output, "w")
writeLines(sprintf(
  "# clubsandwich.csv: made by 'Rscript tests/reference/make_clubsandwich.R' from twfe_input.csv (controls: %s); %s, clubSandwich %s; %s",
  paste(controls, collapse = " "), R.version.string, packageVersion("clubSandwich"),
  format(Sys.Date())), con)
write.csv(do.call(rbind, rows), con, row.names = FALSE, quote = FALSE)
close(con)
