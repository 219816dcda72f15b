# The provider's own acceptance configurations of aws_sagemaker_app (internal/service/
# sagemaker/app_test.go: basic, resourceSpec, resourceSpecLifecycle, space, tags), side by
# side on the domain and user profile of their shared base, with the VPC, subnet and role
# given as values (no EC2 or IAM here). And a lifecycle config the domain's defaults refer
# to. `tags` are the tagged app's (the acceptance test's three steps).
# The provider block (endpoint, keys) is written beside this file by the test.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "name" { type = string }
variable "tags" { type = map(string) }

locals {
  role = "arn:aws:iam::123456789012:role/${var.name}"
}

resource "aws_sagemaker_studio_lifecycle_config" "domain" {
  studio_lifecycle_config_name     = "${var.name}-domain"
  studio_lifecycle_config_app_type = "JupyterLab"
  studio_lifecycle_config_content  = base64encode("pip install --quiet jupyterlab-git")

  tags = { team = "ml" }
}

resource "aws_sagemaker_domain" "test" {
  domain_name = var.name
  auth_mode   = "IAM"
  vpc_id      = "vpc-0123456789abcdef0"
  subnet_ids  = ["subnet-0123456789abcdef0"]

  default_user_settings {
    execution_role = local.role

    jupyter_lab_app_settings {
      lifecycle_config_arns = [aws_sagemaker_studio_lifecycle_config.domain.arn]
    }
  }

  default_space_settings {
    execution_role = local.role
  }

  retention_policy {
    home_efs_file_system = "Delete"
  }
}

resource "aws_sagemaker_user_profile" "test" {
  domain_id         = aws_sagemaker_domain.test.id
  user_profile_name = var.name
}

# basic
resource "aws_sagemaker_app" "basic" {
  domain_id         = aws_sagemaker_domain.test.id
  user_profile_name = aws_sagemaker_user_profile.test.user_profile_name
  app_name          = "${var.name}-basic"
  app_type          = "JupyterServer"
}

# resourceSpec
resource "aws_sagemaker_app" "resource_spec" {
  domain_id         = aws_sagemaker_domain.test.id
  user_profile_name = aws_sagemaker_user_profile.test.user_profile_name
  app_name          = "${var.name}-spec"
  app_type          = "JupyterServer"

  resource_spec {
    instance_type = "system"
  }
}

# resourceSpecLifecycle
resource "aws_sagemaker_studio_lifecycle_config" "test" {
  studio_lifecycle_config_name     = var.name
  studio_lifecycle_config_app_type = "JupyterServer"
  studio_lifecycle_config_content  = base64encode("echo Hello")
}

resource "aws_sagemaker_user_profile" "lifecycletest" {
  domain_id         = aws_sagemaker_domain.test.id
  user_profile_name = "${var.name}-lifecycle"

  user_settings {
    execution_role = local.role

    jupyter_server_app_settings {
      default_resource_spec {
        instance_type        = "system"
        lifecycle_config_arn = aws_sagemaker_studio_lifecycle_config.test.arn
      }

      lifecycle_config_arns = [aws_sagemaker_studio_lifecycle_config.test.arn]
    }
  }
}

resource "aws_sagemaker_app" "lifecycle" {
  domain_id         = aws_sagemaker_domain.test.id
  user_profile_name = aws_sagemaker_user_profile.lifecycletest.user_profile_name
  app_name          = var.name
  app_type          = "JupyterServer"

  resource_spec {
    instance_type        = "system"
    lifecycle_config_arn = aws_sagemaker_studio_lifecycle_config.test.arn
  }
}

# space
resource "aws_sagemaker_space" "test" {
  domain_id  = aws_sagemaker_domain.test.id
  space_name = "${var.name}-space"
}

resource "aws_sagemaker_app" "space" {
  domain_id  = aws_sagemaker_domain.test.id
  app_name   = var.name
  app_type   = "JupyterServer"
  space_name = aws_sagemaker_space.test.space_name
}

# tags
resource "aws_sagemaker_app" "tags" {
  domain_id         = aws_sagemaker_domain.test.id
  user_profile_name = aws_sagemaker_user_profile.test.user_profile_name
  app_name          = "${var.name}-tags"
  app_type          = "JupyterServer"

  tags = var.tags
}

output "domain_id" {
  value = aws_sagemaker_domain.test.id
}

output "app_arns" {
  value = {
    basic         = aws_sagemaker_app.basic.arn
    resource_spec = aws_sagemaker_app.resource_spec.arn
    lifecycle     = aws_sagemaker_app.lifecycle.arn
    space         = aws_sagemaker_app.space.arn
    tags          = aws_sagemaker_app.tags.arn
  }
}

output "resource_specs" {
  value = {
    basic     = aws_sagemaker_app.basic.resource_spec
    lifecycle = aws_sagemaker_app.lifecycle.resource_spec
  }
}

output "lifecycle_config_arn" {
  value = aws_sagemaker_studio_lifecycle_config.test.arn
}
