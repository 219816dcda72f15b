"""sagemaker-images in your own tests: a real server in-process, a moto-style mock, a
pytest plugin (registered on install), and the control API's client.

    from sagemaker_images.testing import mock_sagemaker_images, SageMakerImagesServer
"""

from sagemaker_images.testing.control import ControlClient, ControlError
from sagemaker_images.testing.mock import mock_sagemaker_images
from sagemaker_images.testing.server import SageMakerImagesServer

__all__ = ["ControlClient", "ControlError", "SageMakerImagesServer", "mock_sagemaker_images"]
