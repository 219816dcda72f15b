"""AWS JSON 1.1, generic and driven by the SageMaker service model; knows nothing of images."""
