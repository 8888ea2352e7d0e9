-- seed 002 shop: orders and sales per shop per day (UTC), per currency
SELECT dt AS day, shop_id, currency, count(*) AS orders, sum(total_amount) AS sales
FROM order_placed_v1
GROUP BY dt, shop_id, currency
ORDER BY day, shop_id, currency
