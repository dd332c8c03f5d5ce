"""Each external system behind an interface of ours: protoc/buf, git, Feast, Great Expectations, MLflow."""
