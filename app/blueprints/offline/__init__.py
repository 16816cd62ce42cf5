"""The visit log without a connection: the service worker's script, served within the district."""
