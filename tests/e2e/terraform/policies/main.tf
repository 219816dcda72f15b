# A CI key's Terraform: versions of the images it is given, and app image configs.
# The provider block (endpoint, keys) is written beside this file by the test.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "images" { type = list(string) }
variable "configs" { type = list(string) }

resource "aws_sagemaker_image_version" "this" {
  for_each   = toset(var.images)
  image_name = each.value
  base_image = "registry.example/${each.value}:1"
}

resource "aws_sagemaker_app_image_config" "this" {
  for_each              = toset(var.configs)
  app_image_config_name = each.value

  kernel_gateway_image_config {
    kernel_spec {
      name = "python3"
    }
  }
}
