"""`openrs push`: a trained model or its checkpoints to the Hugging Face Hub, with a model card."""
