"""The local stack: DynamoDB Local, the HTTP API in-process, and helpers the tests share."""
