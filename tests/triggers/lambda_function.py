def lambda_handler(event, context):
    for record in event['Records']:
        payload = record['kinesis']['data']
        print(f"Decoded data: {base64.b64decode(payload).decode('utf-8')}")
