mod compromised;
