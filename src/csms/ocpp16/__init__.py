"""ocpp16"""
