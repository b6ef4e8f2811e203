"""Document and fragment language detection."""
