"""HL7 FHIR R4 (R4B models): mapping of the record, the `/fhir` REST face and the export command."""
