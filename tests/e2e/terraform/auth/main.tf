# The cheapest synchronous round-trip: one AppImageConfig (create, then read it back).
variable "name" {
  type = string
}

resource "aws_sagemaker_app_image_config" "this" {
  app_image_config_name = var.name

  kernel_gateway_image_config {
    kernel_spec {
      name = "python3"
    }
  }
}

output "arn" {
  value = aws_sagemaker_app_image_config.this.arn
}
