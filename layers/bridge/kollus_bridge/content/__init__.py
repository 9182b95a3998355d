"""Content management: the catalog (`catalog`), platform callbacks and LMS requests (`manage`),
reconciliation with the VOD API (`reconcile`), and the deployment-wide VOD API rate limit (`limiter`)."""
