"""AWS JSON 1.1, generic and driven by botocore's SageMaker model; knows nothing of images."""
