"""Motion-capture trials: what a lab records (markers, force plates, analog channels,
events), brought into the model's frame, gap-filled and filtered."""
