"""The read API's endpoints, one module per room of the product."""
