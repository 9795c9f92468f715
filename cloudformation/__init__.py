"""The CloudFormation templates: the single source of truth for what is deployed."""
