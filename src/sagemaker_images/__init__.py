"""sagemaker-images: Amazon SageMaker's custom-image catalog, self-hosted."""

__version__ = "0.1.0"
