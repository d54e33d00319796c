"""What TF Serving's clients and servers agree on, shared by the client and the server.

The default signature name, the one metadata field the stock server answers, and gRPC's
message limits: the stock server takes messages of up to 2^31-1 bytes both ways, where Python
gRPC's default receive limit (4 MB) is too small for a large batch of images.
"""

DEFAULT_SIGNATURE = "serving_default"
SIGNATURE_DEF_FIELD = "signature_def"
MAX_MESSAGE_BYTES = 2**31 - 1
CHANNEL_OPTIONS = (
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
)
