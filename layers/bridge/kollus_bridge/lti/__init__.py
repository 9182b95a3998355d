"""LTI 1.3: the bridge as a tool an LMS launches (OIDC login and launch, deep linking) and whose
gradebook it fills (Assignment and Grade Services), with its own RS256 keys."""
