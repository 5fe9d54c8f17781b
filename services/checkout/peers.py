"""HTTP clients of other services: none. The checkout service calls no peer over HTTP; it reaches the
cart, tiling and pricing services only through the saga's commands and replies on Kafka."""
