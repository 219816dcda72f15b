# Every resource type of the catalog, every argument the hashicorp/aws 5.100.0 provider has.
# One version per image: provider 5.100.0 identifies a version by its image's name alone and
# reads it back as the image's latest version, so a second version resource of the same
# image would read (and fight over) the same version.
# The provider block (endpoint, keys) is written beside this file by the test.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "image_name" { type = string }
variable "description" { type = string }
variable "display_name" { type = string }
variable "release_notes" { type = string }
variable "kernel_display_name" { type = string }
variable "tags" { type = map(string) }

resource "aws_sagemaker_image" "main" {
  image_name   = var.image_name
  role_arn     = "arn:aws:iam::123456789012:role/SageMakerRole"
  description  = var.description
  display_name = var.display_name
  tags         = var.tags
}

resource "aws_sagemaker_image_version" "first" {
  image_name       = aws_sagemaker_image.main.id
  base_image       = "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1.0"
  horovod          = true
  job_type         = "TRAINING"
  ml_framework     = "TensorFlow 2.13"
  processor        = "GPU"
  programming_lang = "Python 3.10"
  release_notes    = var.release_notes
  vendor_guidance  = "STABLE"
}

resource "aws_sagemaker_app_image_config" "kernel" {
  app_image_config_name = "${var.image_name}-kernel"
  tags                  = var.tags

  kernel_gateway_image_config {
    kernel_spec {
      name         = "python3"
      display_name = var.kernel_display_name
    }
    kernel_spec {
      name = "ir"
    }
    file_system_config {
      mount_path  = "/home/sagemaker-user"
      default_uid = 1000
      default_gid = 100
    }
  }
}

resource "aws_sagemaker_app_image_config" "lab" {
  app_image_config_name = "${var.image_name}-lab"

  jupyter_lab_image_config {
    container_config {
      container_arguments             = ["--ServerApp.base_url", "/jupyterlab/default"]
      container_entrypoint            = ["jupyter-lab"]
      container_environment_variables = { STAGE = "dev" }
    }
    file_system_config {
      mount_path  = "/home/jovyan"
      default_uid = 0
      default_gid = 0
    }
  }
}

resource "aws_sagemaker_app_image_config" "editor" {
  app_image_config_name = "${var.image_name}-editor"
  tags                  = { tool = "code-editor" }

  code_editor_app_image_config {
    container_config {
      container_entrypoint = ["code-server"]
    }
  }
}

output "image_arn" { value = aws_sagemaker_image.main.arn }
output "version" { value = aws_sagemaker_image_version.first.version }
output "first_container_image" { value = aws_sagemaker_image_version.first.container_image }
