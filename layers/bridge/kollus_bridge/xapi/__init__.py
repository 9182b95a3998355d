"""xAPI: the statements (ADL xAPI Video Profile) a learner's progress becomes, for a learning record store."""
