from sagemaker_images.cli import main

main()
