"""Pictures: traces drawn on camera images, image sheets, videos."""
