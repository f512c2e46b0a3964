CREATE TABLE "teams" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "slug" TEXT);
CREATE TABLE "users" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "email" TEXT NOT NULL,
  "handle" TEXT,
  "score" INTEGER NOT NULL DEFAULT 0,
  "bio" TEXT,
  "team_id" INTEGER,
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "users_team_fk" FOREIGN KEY ("team_id") REFERENCES "teams" ("id") ON DELETE SET NULL,
  CONSTRAINT "users_score_ck" CHECK ("score" >= 0)
);
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
CREATE TABLE "labels" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);
CREATE TABLE "events" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL REFERENCES "users" ("id"));
