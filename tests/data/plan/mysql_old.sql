CREATE TABLE `teams` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
CREATE TABLE `users` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `email` varchar(255) NOT NULL,
  `nick` varchar(64) DEFAULT NULL,
  `legacy_flag` tinyint(1) NOT NULL DEFAULT 0,
  `role` enum('admin','member','guest','bot') NOT NULL DEFAULT 'member',
  `score` int DEFAULT NULL,
  `bio` text,
  `old_team_id` int DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `users_nick_idx` (`nick`),
  KEY `users_legacy_idx` (`legacy_flag`, `nick`),
  CONSTRAINT `users_old_team_fk` FOREIGN KEY (`old_team_id`) REFERENCES `teams` (`id`)
) ENGINE=InnoDB;
CREATE TABLE `audit` (
  `id` int NOT NULL AUTO_INCREMENT,
  `what` varchar(200) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
CREATE TABLE `tags` (
  `id` int NOT NULL,
  `label` varchar(50) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
CREATE TABLE `notes` (`id` int NOT NULL, `body` text, `extra` int DEFAULT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;
