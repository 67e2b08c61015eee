"""The parts of the robust scheme (``models/robust.py``): a lapped transform, a masking model, spread-transform
dither modulation, an LDPC code, and the payload (a compressed image with a header)."""
