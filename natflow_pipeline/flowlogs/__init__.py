"""Reading AWS VPC Flow Log deliveries: fields, object layout, parsing and the NAT filter."""
