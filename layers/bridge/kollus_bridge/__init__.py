"""kollus-lms-bridge: Kollus callbacks in, learners' viewing progress out.

Packages by capability, each reading top-down; imports between them point one way, down this list
(`tests/unit/test_layout.py` holds them to it):

- `api`: the LMS API's use cases, request and response models, and its HTTP resolver; `runtime`:
  what the delivery functions share to start a run;
- `store`, `edge`, `auth`: adapters (DynamoDB, the framework-free HTTP edge, tokens and keys);
- `delivery`: getting what happened to the LMS (the sync run, Standard Webhooks, the LMS client);
  `analytics`: learning-activity figures per content and per learner, pure;
- `progress`: the pure progress rule, per-content rules, the callback use case and its storage ports;
  `content`: the catalog and its reconciliation with Kollus; `access`: entitlement, play and DRM
  decisions;
- `kollus`: Kollus's wire formats (the LMS callback parser, the playback JWT and session nonce);
- `errors`, `settings`, `times`, `observability`, `outbound`: shared by all.
"""
