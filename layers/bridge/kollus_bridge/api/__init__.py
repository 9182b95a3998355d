"""The LMS API: use cases (`service`), request and response models (`models`) and the Powertools
resolver with bearer auth and the one error shape (`http`)."""
