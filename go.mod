module github.com/ecdaf744/gomss

go 1.26.0

require (
	github.com/beevik/etree v1.8.1
	github.com/emersion/go-message v0.18.2
	golang.org/x/text v0.43.0
)

require golang.org/x/mod v0.42.0
