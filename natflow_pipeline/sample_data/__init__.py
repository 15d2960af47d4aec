"""A deterministic generator of the embedded default: a fictional company's IPAM, NAT gateway flow
logs in AWS's real format and key layout, and the ground truth the pipeline must reproduce."""
