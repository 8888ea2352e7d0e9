-- seed 002 shop: the ten products with the most revenue (per currency), units sold and orders
SELECT o.currency, i.product_id, sum(i.quantity) AS units, sum(i.quantity * i.unit_price) AS revenue,
       count(DISTINCT i.id) AS orders
FROM order_placed_v1_items i
JOIN order_placed_v1 o ON o.id = i.id
GROUP BY o.currency, i.product_id
ORDER BY revenue DESC, i.product_id
LIMIT 10
