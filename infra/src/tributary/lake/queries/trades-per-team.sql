-- seed 004 NBA: trades each team took part in, per season
WITH teams AS (
    SELECT id, from_team AS team FROM trade_completed_v1_movements
    UNION
    SELECT id, to_team AS team FROM trade_completed_v1_movements
)
SELECT t.season, teams.team, count(*) AS trades
FROM teams
JOIN trade_completed_v1 t ON t.id = teams.id
GROUP BY t.season, teams.team
ORDER BY t.season, trades DESC, teams.team
