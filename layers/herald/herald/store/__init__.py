"""DynamoDB repositories. The only package besides the container that talks to boto3."""
