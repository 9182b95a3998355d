"""Learning-activity analysis: a content's engagement figures and each learner's, exact and pure
(`activity` what they read, `metrics` per content, `learners` per learner)."""
