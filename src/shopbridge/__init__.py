"""ShopBridge: keeps Nordic web shops and the ERP systems behind them in step."""

__version__ = "0.1.0"
