"""The local stack: everything `csms dev` runs on a laptop with no AWS account."""
