# A custom image attached in Studio: an image, its version and two AppImageConfigs, a domain
# whose default user settings attach them (kernel gateway and JupyterLab), a user profile
# and a space with custom images of their own, tags on each. `second_image` adds a second
# custom image to the domain's kernel gateway settings, in place; `lab_image = false`
# removes the only custom image of its JupyterLab settings.
# The provider block (endpoint, keys) is written beside this file by the test.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "second_image" { type = bool }
variable "lab_image" {
  type    = bool
  default = true
}

locals {
  role = "arn:aws:iam::123456789012:role/SageMakerRole"
}

resource "aws_sagemaker_image" "studio" {
  image_name = "tf-studio"
  role_arn   = local.role
}

resource "aws_sagemaker_image_version" "studio" {
  image_name = aws_sagemaker_image.studio.id
  base_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/studio:1.0"
}

resource "aws_sagemaker_app_image_config" "kernel" {
  app_image_config_name = "tf-studio-kernel"

  kernel_gateway_image_config {
    kernel_spec {
      name = "python3"
    }
  }
}

resource "aws_sagemaker_app_image_config" "lab" {
  app_image_config_name = "tf-studio-lab"

  jupyter_lab_image_config {
    container_config {
      container_entrypoint = ["jupyter-lab"]
    }
  }
}

resource "aws_sagemaker_domain" "studio" {
  domain_name = "tf-studio"
  auth_mode   = "IAM"
  vpc_id      = "vpc-0123456789abcdef0"
  subnet_ids  = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]

  default_user_settings {
    execution_role = local.role

    kernel_gateway_app_settings {
      custom_image {
        app_image_config_name = aws_sagemaker_app_image_config.kernel.app_image_config_name
        image_name            = aws_sagemaker_image_version.studio.image_name
      }

      dynamic "custom_image" {
        for_each = var.second_image ? [1] : []
        content {
          app_image_config_name = aws_sagemaker_app_image_config.lab.app_image_config_name
          image_name            = aws_sagemaker_image_version.studio.image_name
          image_version_number  = aws_sagemaker_image_version.studio.version
        }
      }
    }

    jupyter_lab_app_settings {
      dynamic "custom_image" {
        for_each = var.lab_image ? [1] : []
        content {
          app_image_config_name = aws_sagemaker_app_image_config.lab.app_image_config_name
          image_name            = aws_sagemaker_image_version.studio.image_name
          image_version_number  = aws_sagemaker_image_version.studio.version
        }
      }
    }
  }

  tags = { team = "ml" }
}

resource "aws_sagemaker_user_profile" "alice" {
  domain_id         = aws_sagemaker_domain.studio.id
  user_profile_name = "alice"

  user_settings {
    execution_role = local.role

    kernel_gateway_app_settings {
      custom_image {
        app_image_config_name = aws_sagemaker_app_image_config.kernel.app_image_config_name
        image_name            = aws_sagemaker_image_version.studio.image_name
        image_version_number  = aws_sagemaker_image_version.studio.version
      }
    }
  }

  tags = { owner = "alice" }
}

resource "aws_sagemaker_space" "shared" {
  domain_id  = aws_sagemaker_domain.studio.id
  space_name = "shared"

  space_settings {
    kernel_gateway_app_settings {
      default_resource_spec {
        instance_type = "ml.t3.medium"
      }

      custom_image {
        app_image_config_name = aws_sagemaker_app_image_config.kernel.app_image_config_name
        image_name            = aws_sagemaker_image_version.studio.image_name
      }
    }
  }

  tags = { team = "ml" }
}

output "domain_id" {
  value = aws_sagemaker_domain.studio.id
}

output "user_profile_arn" {
  value = aws_sagemaker_user_profile.alice.arn
}

output "space_arn" {
  value = aws_sagemaker_space.shared.arn
}
