"""The offline Speaking scorer: fluency from word timings, pronunciation from the recogniser's
confidence, grammar, vocabulary and discourse from the transcript with the fitted writing models."""
