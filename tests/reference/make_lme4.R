# Reference for the mixed model: R lme4::lmer on tests/reference/mixed_input.csv.
#
#   Rscript tests/reference/make_lme4.R    (from the repository root)
#
# Writes tests/reference/lme4.csv: per indicator, lme4's fixed-effect estimates and standard
# errors as lme4 reports them (time per decade, term "time10"), REML, bobyqa, the same model
# as the live test in tests/test_models.py, and whether the fit is singular (lme4::isSingular:
# a variance component at its boundary, where optimisers may stop at different points).
# Numbers with 17 significant digits.
suppressMessages(library(lme4))
input <- "tests/reference/mixed_input.csv"
output <- "tests/reference/lme4.csv"
d <- read.csv(input, comment.char = "#")
rows <- list()
for (indicator in unique(d$indicator_id)) {
  di <- d[d$indicator_id == indicator, ]
  di$area_code <- factor(di$area_code)
  f <- lmer(y ~ time10 + integration_full + integration_partial + deprivation + covid +
              log_density + (1 + time10 | area_code), data = di, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  s <- summary(f)$coefficients
  rows[[indicator]] <- data.frame(indicator_id = indicator, term = rownames(s),
                                  estimate = sprintf("%.17g", s[, 1]),
                                  std_error = sprintf("%.17g", s[, 2]),
                                  singular = isSingular(f))
}
con <- file(output, "w")
writeLines(sprintf(
  "# lme4.csv: made by 'Rscript tests/reference/make_lme4.R' from mixed_input.csv; %s, lme4 %s, Matrix %s; %s",
  R.version.string, packageVersion("lme4"), packageVersion("Matrix"), format(Sys.Date())), con)
write.csv(do.call(rbind, rows), con, row.names = FALSE, quote = FALSE)
close(con)
