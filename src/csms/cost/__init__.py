"""The cost model behind ``csms cost``: the bill (``model``), its dated price table
(``prices.toml``) and the traffic measured from the real code path (``message_mix.json``)."""
